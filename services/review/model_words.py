"""The Models page in words: metrics, statuses, the gate's reasons and a job's phase, Indonesian first.

The trainer writes its reasons in English (``training/gate.py``, ``training/trainer.py``, read by
developers in the terminal and stored in ``registry.json``). Ministry staff read them here: each
known wording is matched and said again in Indonesian (or English) with the same figures; a reason
in a wording this module does not know is shown as written, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta

from core import model_registry as reg
from services.review.i18n import INDONESIAN, translate
from services.review.training_jobs import JobKind, Phase, Progress

METRIC_WORDS = {
    "faq_right": "Jawaban benar",
    "faq_clarified": "“Maksud Anda?” dengan topik yang benar",
    "faq_wrong": "Jawaban salah",
    "faq_menu": "Menu atau topik lain",
}
STATUS_WORDS = {
    reg.LIVE: "Live",
    reg.KEPT: "Disimpan, bisa dikembalikan",
    reg.REFUSED: "Ditolak gerbang mutu",
    reg.RETIRED: "Ditarik",
}
PHASE_WORDS = {
    Phase.STARTING: "Memulai",
    Phase.VALIDATING: "Memeriksa data latih",
    Phase.INDEXING: "Membangun indeks semantik",
    Phase.TESTING_CANDIDATE: "Menguji model baru pada pertanyaan uji",
    Phase.TESTING_LIVE: "Menguji model live {model} pada pertanyaan uji yang sama",
    Phase.DECIDING: "Gerbang mutu memutuskan",
    Phase.SWAPPING: "Memuat model ke server Rasa",
}
KIND_WORDS = {
    JobKind.TRAIN: "Pelatihan",
    JobKind.ACTIVATE: "Aktivasi model",
    JobKind.ROLLBACK: "Pengembalian versi sebelumnya",
}
_NUMBER = r"(\d+(?:\.\d+)? %)"


def percent(value: float, language: str) -> str:
    """``0.732`` -> ``73,2 %`` (Indonesian decimal comma) or ``73.2 %``."""
    text = f"{value * 100:.1f} %"
    return text.replace(".", ",") if language == INDONESIAN else text


def _figure(text: str, language: str) -> str:
    """A percentage as the trainer wrote it (``73.2 %``), in the page's language."""
    return text.replace(".", ",") if language == INDONESIAN else text


def metric_line(name: str, value: float | None, live: float | None, language: str) -> str:
    """``Jawaban benar 73,2 % (live 72,0 %)``."""
    label = translate(METRIC_WORDS.get(name, name), language)
    shown = percent(value, language) if value is not None else "–"
    if live is None:
        return f"{label} {shown}"
    return translate(
        "{label} {value} (live {live})", language, label=label, value=shown, live=percent(live, language)
    )


def status_words(status: str, language: str) -> str:
    return translate(STATUS_WORDS.get(status, status), language)


def phase_words(progress: Progress, live_model: str, language: str) -> str:
    if progress.phase is Phase.TRAINING_RASA:
        if progress.epoch is None:
            return translate(
                "Melatih model Rasa: komponen {component}", language, component=progress.component
            )
        done, total = progress.epoch
        return translate(
            "Melatih model Rasa: komponen {component}, epoch {done} dari {total}",
            language,
            component=progress.component,
            done=done,
            total=total,
        )
    return translate(PHASE_WORDS[progress.phase], language, model=live_model)


def duration_words(elapsed: timedelta, language: str) -> str:
    seconds = max(0, int(elapsed.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return translate("{hours} jam {minutes} menit", language, hours=hours, minutes=minutes)
    if minutes:
        return translate("{minutes} menit {seconds} detik", language, minutes=minutes, seconds=seconds)
    return translate("{seconds} detik", language, seconds=seconds)


# ------------------------------------------------------------------ the trainer's reasons

_Say = Callable[[re.Match[str], str], str]


def _not_worse(found: re.Match[str], language: str) -> str:
    helped, live_helped, wrong, live_wrong, tolerance = (_figure(g, language) for g in found.groups())
    return translate(
        "Tidak lebih buruk dari model live: pertanyaan terbantu {helped} (live {live_helped}), "
        "jawaban salah {wrong} (live {live_wrong}); toleransi {tolerance}.",
        language,
        helped=helped,
        live_helped=live_helped,
        wrong=wrong,
        live_wrong=live_wrong,
        tolerance=tolerance,
    )


_HELPED_LESS = re.compile(rf"FAQ helped {_NUMBER} < live {_NUMBER}")
_WRONG_MORE = re.compile(rf"FAQ wrong {_NUMBER} > live {_NUMBER}")
_TOLERANCE = re.compile(rf"\(tolerance {_NUMBER}\)$")


def _worse(found: re.Match[str], language: str) -> str:
    reason = found.group(0)
    problems = []
    for pattern, words in (
        (_HELPED_LESS, "lebih sedikit pertanyaan terbantu, {value} (live {live})"),
        (_WRONG_MORE, "lebih banyak jawaban salah, {value} (live {live})"),
    ):
        problem = pattern.search(reason)
        if problem:
            value, live = (_figure(g, language) for g in problem.groups())
            problems.append(translate(words, language, value=value, live=live))
    tolerance = _TOLERANCE.search(reason)
    return translate(
        "Lebih buruk dari model live: {problems}; toleransi {tolerance}.",
        language,
        problems="; ".join(problems),
        tolerance=_figure(tolerance.group(1), language) if tolerance else "–",
    )


def _fixed(words: str) -> _Say:
    return lambda found, language: translate(words, language, **found.groupdict())


REASONS: list[tuple[re.Pattern[str], _Say]] = [
    (
        re.compile(r"^first model: no live model to compare with$"),
        _fixed("Model pertama: belum ada model live untuk dibandingkan."),
    ),
    (
        re.compile(
            rf"^not worse than the live model: FAQ helped {_NUMBER} \(live {_NUMBER}\), "
            rf"FAQ wrong {_NUMBER} \(live {_NUMBER}\) \(tolerance {_NUMBER}\)$"
        ),
        _not_worse,
    ),
    (re.compile(rf"^FAQ (helped|wrong) .*\(tolerance {_NUMBER}\)$"), _worse),
    (
        re.compile(r"^the live model changed while this one trained: compare again$"),
        _fixed("Model live berganti selama pelatihan ini: latih lagi untuk membandingkan ulang."),
    ),
    (re.compile(r"^activated by hand$"), _fixed("Diaktifkan manual oleh admin.")),
    (re.compile(r"^replaced by (?P<model>\S+)$"), _fixed("Digantikan oleh {model}.")),
    (re.compile(r"^rolled back to (?P<model>\S+)$"), _fixed("Ditarik; {model} dikembalikan.")),
    (re.compile(r"^restored by rollback of (?P<model>\S+)$"), _fixed("Dikembalikan saat {model} ditarik.")),
    (re.compile(r"^restored by rollback$"), _fixed("Dikembalikan lewat pengembalian versi.")),
]


def reason_words(reason: str, language: str) -> str:
    """The trainer's reason in the page's language; an unknown wording as written."""
    for pattern, say in REASONS:
        found = pattern.match(reason.strip())
        if found:
            return say(found, language)
    return reason


def metric_lines(metrics: Mapping[str, float], live: Mapping[str, float] | None, language: str) -> list[str]:
    """One line per outcome of the held-out FAQ questions, candidate against live."""
    return [
        metric_line(name, metrics.get(name), live.get(name) if live is not None else None, language)
        for name in reg.METRIC_NAMES
    ]

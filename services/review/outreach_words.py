"""The registry's codes for outreach (campaign kinds and states, skip and failure reasons, correction
fields, KIPI severities) in the plain Indonesian words staff read, in one place for every page.

A code with no entry here is shown as the registry wrote it, never hidden: a new reason appears on
the report the day the registry starts using it, and gets its words here.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.review.i18n import translate


@dataclass(frozen=True)
class SavedAudience:
    """An audience staff can start a campaign from: the registry's kind, its days, and the approved
    WhatsApp template the registry sends for that kind (it refuses any other, so a name that drifts
    from services/registry/outreach/templates.py shows as the registry's own message)."""

    key: str
    label: str
    kind: str
    template: str
    days: int | None
    explains: str


SAVED_AUDIENCES = (
    SavedAudience(
        "pengingat-h3",
        "Pengingat jadwal H-3",
        "appointment_reminder",
        "pengingat_jadwal",
        3,
        "Penerima yang jadwal vaksinasinya tiga hari lagi (jumlah hari dapat diubah).",
    ),
    SavedAudience(
        "dosis-jatuh-tempo",
        "Dosis jatuh tempo",
        "dose_due",
        "dosis_jatuh_tempo",
        None,
        "Penerima yang jadwal dosis berikutnya sudah lewat dan belum datang.",
    ),
    SavedAudience(
        "sertifikat-siap",
        "Sertifikat siap",
        "certificate_ready",
        "sertifikat_siap",
        None,
        "Penerima yang sudah divaksinasi dan sertifikatnya dapat diunduh.",
    ),
)
AUDIENCES = {audience.key: audience for audience in SAVED_AUDIENCES}

KIND_WORDS = {
    "appointment_reminder": "Pengingat jadwal",
    "dose_due": "Dosis jatuh tempo",
    "certificate_ready": "Sertifikat siap",
    "correction_outcome": "Hasil koreksi data",
}
CAMPAIGN_STATUS_WORDS = {
    "draft": "Draf",
    "running": "Sedang mengirim",
    "paused": "Dijeda",
    "done": "Selesai",
}
RUNNING = "running"
PAUSED = "paused"
DONE = "done"
SKIP_WORDS = {
    "opted_out": "penerima sudah berhenti langganan",
    "no_whatsapp_number": "tidak ada nomor WhatsApp di registri",
    "already_notified": "sudah pernah menerima pemberitahuan ini",
}
# Meta's error codes (Cloud API) a send can fail with; others are shown with their number.
FAILURE_WORDS = {
    "130429": "batas kecepatan WhatsApp tercapai",
    "131056": "terlalu banyak pesan ke nomor yang sama dalam waktu singkat",
    "131026": "nomor tidak dapat menerima pesan WhatsApp",
    "131047": "di luar jendela 24 jam dan bukan template",
    "131049": "WhatsApp menahan pesan ini demi pengalaman penerima",
    "131050": "penerima memilih tidak menerima pesan pemasaran",
    "132000": "jumlah isian template tidak cocok",
    "132001": "template tidak ada atau belum disetujui untuk bahasa ini",
    "132015": "template dijeda karena mutu rendah",
    "132016": "template dinonaktifkan",
    "network": "WhatsApp tidak dapat dihubungi",
    "unknown": "alasan tidak dicatat",
}
CORRECTION_FIELD_WORDS = {"name": "Nama", "phone": "Nomor HP", "dose": "Catatan dosis"}
CORRECTION_STATUS_WORDS = {"pending": "Menunggu", "approved": "Disetujui", "rejected": "Ditolak"}
SEVERITY_WORDS = {"berat": "Berat", "sedang": "Sedang", "ringan": "Ringan"}
SEVERITY_ORDER = {"berat": 0, "sedang": 1, "ringan": 2}
KIPI_STATUS_WORDS = {"baru": "Baru", "ditangani": "Ditangani", "selesai": "Selesai"}
TRIAGE_STATUSES = ("ditangani", "selesai")
OPT_SOURCE_WORDS = {
    "button": "tombol Berhenti",
    "keyword": "mengetik BERHENTI/STOP",
    "text": "pesan teks",
    "chat": "percakapan",
    "staff": "petugas",
}


def word(words: dict[str, str], code: str | None, language: str) -> str:
    """The words for ``code`` in ``language``; the code itself when it has none."""
    if code is None:
        return ""
    known = words.get(code)
    return translate(known, language) if known else code


def failure_word(code: str, language: str) -> str:
    known = FAILURE_WORDS.get(code)
    if known:
        return translate(known, language)
    if code.isdigit():
        return translate("kode kesalahan WhatsApp {code}", language, code=code)
    return code

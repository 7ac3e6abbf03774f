"""Indonesian texts the API returns, written so the action server can pass them on unchanged.

They name no hotline or website: contacts are defined once, in the assistant's contact block
(rasa_project/domain/contacts.yml), and the action server adds them where people need them.
"""

from __future__ import annotations

from core.durations import format_duration

NOT_FOUND = (
    "Data tidak ditemukan. Pastikan NIK dan tanggal lahir sama persis dengan yang tertera di KTP "
    "atau Kartu Keluarga."
)
NOT_FOUND_WHATSAPP_ONLY = (
    NOT_FOUND + " Kanal ini hanya untuk uji coba dengan data contoh; untuk data vaksinasi Anda sendiri, "
    "cek lewat WhatsApp resmi TanyaVaksin."
)
CODE_UNAVAILABLE = "Kode verifikasi tidak dapat dikirim saat ini. Silakan coba lagi nanti."
CODE_ENDED = "Kode verifikasi sudah tidak berlaku. Silakan mulai lagi dari awal."
CODE_ENDED_TOO_MANY = "Terlalu banyak kode yang salah. Silakan mulai lagi dari awal."
UNAUTHORISED = "Token layanan tidak ada atau salah."
INVALID_REQUEST = "Permintaan tidak valid; lihat daftar masalah."


def locked(seconds_left: int) -> str:
    return (
        "Terlalu banyak percobaan yang gagal. Demi keamanan data, pengecekan jadwal dikunci "
        f"sementara. Silakan coba lagi dalam {format_duration(seconds_left)}. Jika Anda yakin NIK dan "
        "tanggal lahir sudah benar, hubungi puskesmas terdekat."
    )


def code_sent(phone_masked: str, minutes: int) -> str:
    return (
        f"Demi keamanan, kode verifikasi 6 angka sudah dikirim lewat WhatsApp ke nomor yang terdaftar "
        f"({phone_masked}). Kode berlaku {minutes} menit."
    )


def wrong_code(attempts_left: int) -> str:
    return f"Kode verifikasi salah. Sisa percobaan: {attempts_left}."


# --- Recipients' requests: corrections, KIPI reports, opt-out (services/registry/requests.py) ---

RECORD_SESSION_ENDED = (
    "Sesi pengecekan data sudah berakhir. Silakan cek data Anda lagi, lalu ulangi permintaan Anda."
)
# What each correctable field is called in a sentence ("Permintaan koreksi nama ...").
FIELD_LABELS = {"name": "nama", "phone": "nomor HP", "dose": "data dosis"}
INVALID_NAME = (
    "Nama hanya boleh berisi huruf, spasi, titik, apostrof (') dan tanda hubung (-), paling banyak 200 "
    "karakter. Tulis nama sesuai KTP."
)
INVALID_PHONE = "Nomor HP tidak valid. Tulis nomor HP Indonesia, misalnya 081234567890 atau +6281234567890."
INVALID_DOSE = (
    "Tulis dosis mana yang salah dan apa yang seharusnya (paling banyak 300 karakter), misalnya "
    '"Dosis 2 tercatat Sinovac, seharusnya Pfizer".'
)
INVALID_NOTE = "Catatan paling banyak 500 karakter."
INVALID_SYMPTOMS = "Ceritakan gejala yang Anda alami (paling banyak 500 karakter)."
INVALID_ONSET = (
    "Tulis kapan gejala mulai muncul, singkat saja (paling banyak 40 karakter), misalnya "
    '"2 jam setelah vaksin".'
)
INVALID_PLACE = (
    "Tulis tempat Anda divaksin (paling banyak 200 karakter), misalnya nama puskesmas atau rumah sakit."
)
SAME_AS_ON_FILE = "Data yang Anda kirim sama dengan yang sudah tercatat, jadi tidak perlu dikoreksi."
OPTED_OUT = (
    "Baik, Anda tidak akan menerima pengingat atau pemberitahuan lagi dari TanyaVaksin. "
    "Ketik MULAI kapan saja untuk menerimanya kembali."
)
OPTED_IN = (
    "Baik, Anda akan kembali menerima pengingat dan pemberitahuan dari TanyaVaksin. "
    "Ketik BERHENTI kapan saja untuk berhenti."
)


def correction_received(field: str, reference: str) -> str:
    return (
        f"Permintaan koreksi {FIELD_LABELS[field]} Anda sudah kami terima dengan nomor {reference}. "
        "Data Anda belum berubah: petugas akan memeriksanya dulu, dan hasilnya akan dikirim lewat WhatsApp."
    )


def correction_pending(field: str, reference: str) -> str:
    return (
        f"Masih ada permintaan koreksi {FIELD_LABELS[field]} yang sedang diperiksa petugas (nomor "
        f"{reference}). Tunggu hasilnya dulu sebelum mengajukan koreksi baru."
    )


def kipi_received(reference: str, linked: bool) -> str:
    linked_text = "" if linked else " Laporan ini tidak terhubung dengan data vaksinasi Anda."
    return (
        f"Laporan KIPI Anda sudah kami terima dengan nomor {reference}. Petugas kesehatan akan "
        f"menindaklanjutinya.{linked_text}"
    )


# The outcome notice's parameters (template hasil_koreksi_data: reference, outcome, explanation).
OUTCOME_APPROVED = "disetujui"
OUTCOME_REJECTED = "ditolak"
OUTCOME_APPROVED_DETAILS = {
    "name": "Nama Anda di registri sudah diperbarui.",
    "phone": "Nomor HP Anda di registri sudah diperbarui.",
    "dose": "Petugas akan memperbaiki catatan dosis Anda di registri.",
}


def outcome_rejected_because(reason: str) -> str:
    return f"Alasan: {reason}"


# --- Staff routes (the review app shows its own locale texts; these are the registry's answers) ---

STAFF_ACCESS_OFF = "Akses petugas ke registri belum diaktifkan (REGISTRY_STAFF_TOKEN belum diisi)."
STAFF_UNAUTHORISED = "Token petugas tidak ada atau salah."
STAFF_USER_INVALID = (
    "Header X-Staff-User wajib diisi: 1-64 karakter huruf, angka, titik, garis bawah, tanda hubung atau "
    "persen (karakter lain di-percent-encode sebagai UTF-8)."
)
CORRECTION_UNKNOWN = "Permintaan koreksi dengan nomor itu tidak ditemukan."
CORRECTION_DECIDED = "Permintaan koreksi ini sudah diputuskan sebelumnya."
REASON_REQUIRED = "Alasan penolakan wajib diisi (paling banyak 500 karakter)."
INVALID_REASON = "Alasan paling banyak 500 karakter."
KIPI_UNKNOWN = "Laporan KIPI dengan nomor itu tidak ditemukan."
INVALID_TRIAGE_NOTE = "Catatan triase paling banyak 500 karakter."


def correction_approved(field: str, reference: str) -> str:
    if field == "dose":
        return (
            f"Koreksi {reference} disetujui. Catatan dosis tidak berubah otomatis: perbaiki catatan dosis "
            "di registri secara manual."
        )
    return f"Koreksi {reference} disetujui; {FIELD_LABELS[field]} di registri sudah diperbarui."


def correction_rejected(reference: str) -> str:
    return f"Koreksi {reference} ditolak; alasannya dicatat."


def kipi_triaged(reference: str, status: str) -> str:
    return f"Laporan {reference} sekarang berstatus {status}."

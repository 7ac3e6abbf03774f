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

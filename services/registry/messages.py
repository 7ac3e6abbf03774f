"""Indonesian texts the API returns, written so the action server can pass them on unchanged."""

from __future__ import annotations

HOTLINE = "hotline Kemenkes 119 ext. 9"

NOT_FOUND = (
    "Data tidak ditemukan. Pastikan NIK dan tanggal lahir sama persis dengan yang tertera di KTP "
    "atau Kartu Keluarga."
)
UNAUTHORISED = "Token layanan tidak ada atau salah."
INVALID_REQUEST = "Permintaan tidak valid; lihat daftar masalah."


def locked(seconds_left: int) -> str:
    return (
        "Terlalu banyak percobaan yang gagal. Demi keamanan data, pengecekan jadwal dikunci "
        f"sementara. Silakan coba lagi dalam {format_duration(seconds_left)}. Jika Anda yakin NIK dan "
        f"tanggal lahir sudah benar, hubungi puskesmas terdekat atau {HOTLINE}."
    )


def format_duration(seconds: int) -> str:
    """Whole minutes, rounded up, in Indonesian: "1 jam", "45 menit", "1 jam 30 menit"."""
    minutes = max(1, -(-seconds // 60))
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} jam"] if hours else []) + ([f"{minutes} menit"] if minutes else [])
    return " ".join(parts)

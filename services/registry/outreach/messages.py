"""What the outreach routes say to staff and to the assistant, in Indonesian (safe to show as is)."""

from __future__ import annotations

CAMPAIGN_UNKNOWN = "Kampanye dengan nomor itu tidak ditemukan."
WRONG_TEMPLATE = "Template {template} tidak dipakai untuk kampanye jenis ini; gunakan {expected}."
WRONG_LANGUAGE = "Template kampanye hanya tersedia dalam bahasa Indonesia (id)."
DAYS_REQUIRED = "Isi jumlah hari (1 sampai {limit}) untuk kampanye jenis ini."
NOT_DRAFT = "Kampanye ini sudah dimulai; jalankan uji coba atau mulai hanya untuk kampanye baru."
CANNOT_PAUSE = "Hanya kampanye yang sedang berjalan yang bisa dijeda."
CANNOT_RESUME = "Hanya kampanye yang sedang dijeda yang bisa dilanjutkan."
WHATSAPP_NOT_READY = (
    "Pengiriman WhatsApp belum diatur di registri (kunci pengirim REGISTRY_SENDER_HASH_KEY belum diisi), "
    "jadi kampanye belum bisa diuji atau dimulai."
)
NOTICE_NOT_FOUND = "Pesan itu tidak kami kenali."

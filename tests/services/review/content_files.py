"""A small content folder in the domain files' format, for the content workflow tests."""

from __future__ import annotations

from pathlib import Path

CONTACTS_YML = """\
version: "3.1"
# The canonical contact block, defined once.
slots:
  kontak_halo_kemenkes:
    type: text
    influence_conversation: false
    mappings:
    - type: custom
    initial_value: "Halo Kemenkes 1500-567"
  kontak_darurat:
    type: text
    influence_conversation: false
    mappings:
    - type: custom
    initial_value: "119"
"""

ANSWERS_YML = """\
version: "3.1"
# FAQ answers for the tests: a comment that must survive publishing.
responses:
  utter_faq/biaya:
  - text: |-
      *Vaksin COVID-19 berbayar* sejak 2024, kecuali untuk kelompok prioritas.

      Tanya: {kontak_halo_kemenkes}

      Sumber: Kemenkes (2023).
    metadata:
      topic: biaya
      status: approved
      valid_as_of: "2024-01-01"
      next_review: "2026-01-20"
      approved_by: "tim-konten"
      approved_at: "2025-12-06"
      sources:
      - {url: "https://kemkes.go.id/biaya", title: "Vaksinasi 2024", date: "2023-12-31", kind: primary}
      - {url: "https://news.example/biaya", title: "Berita biaya", date: "2024-01-02", kind: secondary}
      changelog:
      - {at: "2025-12-06", by: "tim-konten", change: "Ditulis ulang"}

  # halal: the next answer keeps this comment
  utter_faq/halal:
  - text: |-
      Vaksin yang dipakai program *halal* menurut fatwa MUI.

      Sumber: MUI (2022).
    metadata:
      topic: halal
      status: approved
      valid_as_of: "2022-01-01"
      next_review: "2025-12-31"
      approved_by: "tim-konten"
      approved_at: "2025-06-01"
      sources:
      - {url: "https://mui.or.id/halal", title: "Fatwa", date: "2022-01-01", kind: primary}
      changelog: []
  utter_faq/efektivitas:
  - text: |-
      Vaksin _melindungi_ dari sakit berat. Darurat: {kontak_darurat}
    metadata:
      topic: efektivitas
      status: draft
      valid_as_of: "2024-01-01"
      next_review: "2026-09-01"
      sources: []
      changelog: []
"""

OTHER_YML = """\
version: "3.1"
responses:
  utter_greet:
  - text: "Halo!"
"""


def write_content(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "contacts.yml").write_text(CONTACTS_YML, encoding="utf-8")
    (folder / "faq_answers_test.yml").write_text(ANSWERS_YML, encoding="utf-8")
    (folder / "core.yml").write_text(OTHER_YML, encoding="utf-8")
    return folder

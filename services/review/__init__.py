"""Review web app: reviewers read, tag and annotate real TanyaVaksin conversations (Rasa X's loop)."""

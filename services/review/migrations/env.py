"""Alembic environment: the connection we are handed, or the one REVIEW_DATABASE_URL names."""

from services.review.content_models import ContentRevision
from services.review.database import make_engine
from services.review.migrate import MIGRATIONS
from services.review.settings import ReviewSettings

# ContentRevision's module adds its table to the one metadata every review table is in.
MIGRATIONS.run_env(ContentRevision.metadata, lambda: make_engine(ReviewSettings().database_url))

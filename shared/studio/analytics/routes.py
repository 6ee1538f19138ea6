"""HTTP routes of the analytics function: /analytics, /sites, /signals, /personalization, /journeys, /seo."""
from __future__ import annotations

from studio.analytics.ingest_routes import ingest
from studio.analytics.journey_routes import journeys, seo
from studio.analytics.signal_routes import personalization, signals
from studio.analytics.site_routes import sites

ROUTERS = (ingest, sites, signals, personalization, journeys, seo)

"""Analytics: browser event ingest per site, the signals registry, personalisation, journeys and SEO pages."""

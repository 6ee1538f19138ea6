"""Font packs: registered TTF/OTF/WOFF2 files read with fontTools, their licence bits checked."""

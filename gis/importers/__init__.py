"""Importers (``gis import ...``): planners' own data into a project's layers and catalog.

One module per source: :mod:`.poi` (POI tables from Chinese web maps), :mod:`.landuse` (三调 and
用地用海 polygons), :mod:`.landcover` (WorldCover, CLCD, GlobeLand30 rasters), :mod:`.osm`
(OpenStreetMap ``.osm.pbf``); :mod:`.catalog_entry` writes the layer and its catalog entry;
:mod:`.classes` reads the class tables shipped under ``tables/``.
"""

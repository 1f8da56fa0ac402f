"""Many layers into one new GeoPackage, each layer costing about what it costs alone.

pyogrio opens and closes the GeoPackage for every layer it writes (it has no way to keep a dataset open).
Opening costs a few milliseconds, but GDAL rewrites the metadata (``gpkg_metadata``) of *every* layer in the
file whenever a session sets the metadata of one: with field meanings on each layer, the n-th layer costs n
layers' worth of metadata work (a full-scale run's 122 writes: 2.6 s, 21 ms a layer and growing).  So GDAL
writes each layer's table and the metadata of the first layer with field meanings (creating the metadata
tables and their ``gpkg_extensions`` rows itself), and the metadata of the others, in the XML GDAL writes,
is inserted at the end in one transaction (the same writes: 0.9 s).  The file holds what GDAL alone would
write, row for row.  Metadata this module cannot write exactly as GDAL does (a key other than letters,
digits and ``_``, keys differing only in case, a value with a control character, a leading blank or a
byte-order mark) is handed to GDAL for its layer.

SQLite skips its fsync after each layer (GDAL's ``OGR_SQLITE_SYNCHRONOUS=OFF``): the file is a new one in a
staging folder, a crash leaves a partial file nobody reads, and :func:`geopackage_writer` syncs it once at
the end.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Literal

import pandas as pd
import pyogrio

_SYNC_OPTION = "OGR_SQLITE_SYNCHRONOUS"
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]+\Z")
_GDAL_ONLY = re.compile("[\x00-\x1f\ufeff]")  # GDAL drops control characters and escapes the byte-order mark
_GDAL_KEYS = ("DESCRIPTION", "IDENTIFIER")  # GDAL keeps these in gpkg_contents, not in the XML


def gdal_metadata_xml(items: Mapping[str, str]) -> str | None:
    """The XML GDAL stores in ``gpkg_metadata`` for a layer's metadata ``items`` (its default domain), None when
    GDAL stores none; raises ValueError for an item only GDAL can write exactly (see the module's note)."""
    kept = {key: value for key, value in items.items() if key.upper() not in _GDAL_KEYS}
    for key, value in kept.items():
        if not _PLAIN_KEY.match(key) or _GDAL_ONLY.search(value) or value[:1].isspace():
            msg = f"metadata item {key!r} is left to GDAL to write"
            raise ValueError(msg)
    if len({key.upper() for key in kept}) < len(kept):
        msg = "metadata keys differing only in case are left to GDAL to write (it keeps one of them)"
        raise ValueError(msg)
    if not kept:
        return None
    escape = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})  # GDAL leaves quotes unescaped in text
    lines = [f'    <MDI key="{key}">{kept[key].translate(escape)}</MDI>\n' for key in sorted(kept, key=str.upper)]
    return f"<GDALMultiDomainMetadata>\n  <Metadata>\n{''.join(lines)}  </Metadata>\n</GDALMultiDomainMetadata>\n"


class GeoPackageWriter:
    """Writes layers into the new GeoPackage ``path`` (GeoPackage ``version``); use :func:`geopackage_writer`."""

    def __init__(self, path: Path, *, version: str) -> None:
        self.path = path
        self.version = version
        self._metadata_tables = False  # whether GDAL has made gpkg_metadata and gpkg_metadata_reference
        self._pending: list[tuple[str, str]] = []  # (layer, XML) to insert

    def write(self, frame: pd.DataFrame, layer: str, *, metadata: Mapping[str, str],
              layer_options: Mapping[str, str] | None = None, promote_to_multi: bool = False) -> None:
        """Write ``frame`` as the new layer ``layer`` with its ``metadata`` items (a frame without geometry
        as an attribute table)."""
        layer_options = dict(layer_options or {})
        options = {} if self.path.exists() else {"dataset_options": {"VERSION": self.version}}
        xml = self._own_xml(metadata, layer_options)
        if xml is False and metadata:
            self._store_pending()  # the rows keep the order of the layers
            options["layer_metadata"] = dict(metadata)
        pyogrio.write_dataframe(frame, self.path, layer=layer, driver="GPKG", promote_to_multi=promote_to_multi,
                                layer_options=layer_options, **options)
        if xml is False:
            self._metadata_tables = self._metadata_tables or any(k.upper() not in _GDAL_KEYS for k in metadata)
        elif xml is not None:
            self._pending.append((layer, xml))

    def _own_xml(self, metadata: Mapping[str, str], layer_options: Mapping[str, str]) -> str | None | Literal[False]:
        """The XML this writer stores for ``metadata`` (None: none to store), or False to let GDAL write it: before
        GDAL has made the metadata tables, for items only GDAL writes exactly, and for a description or identifier
        GDAL would put in gpkg_contents other than the layer's own."""
        if not self._metadata_tables:
            return False
        if any(value != layer_options.get(key.upper()) for key, value in metadata.items() if key.upper() in _GDAL_KEYS):
            return False
        try:
            return gdal_metadata_xml(metadata)
        except ValueError:
            return False

    def _store_pending(self) -> None:
        """Insert the metadata GDAL did not write, as GDAL would have, in one transaction."""
        if not self._pending:
            return
        with closing(sqlite3.connect(self.path)) as connection, connection:
            connection.execute("PRAGMA synchronous = OFF")
            for layer, xml in self._pending:
                md_id = connection.execute(
                    "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                    "VALUES ('dataset', 'http://gdal.org', 'text/xml', ?)", (xml,)).lastrowid
                connection.execute(
                    "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, timestamp, md_file_id) "
                    "VALUES ('table', ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?)", (layer, md_id))
        self._pending.clear()


@contextmanager
def geopackage_writer(path: Path, *, version: str) -> Iterator[GeoPackageWriter]:
    """A writer of the new GeoPackage ``path``: the block writes its layers (and may add tables with SQLite);
    at its end the file holds every layer's metadata and is synced to disk once."""
    previous = pyogrio.get_gdal_config_option(_SYNC_OPTION)
    pyogrio.set_gdal_config_options({_SYNC_OPTION: "OFF"})
    try:
        writer = GeoPackageWriter(path, version=version)
        yield writer
        writer._store_pending()
    finally:
        pyogrio.set_gdal_config_options({_SYNC_OPTION: previous})
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())

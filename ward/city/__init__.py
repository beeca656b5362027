"""Many wards in one deployment: each ward's own `ward run` in its own process, in parallel, and the
city marts built from the wards' published warehouses (docs/scale.md, "Many wards, one deployment").

The city root (WARD_CITY_DIR, ward.city.settings) holds:

    landing/<ward_code>/<source>/   the officers' drops of each ward
    wards/<ward_code>/              each ward's own data root (raw, build, warehouse, exports, .dagster)
    city/                           city.duckdb (the city marts), lake/<mart>/ward_code=<code>/ (the
                                    same marts as Parquet), logs/<ward_code>.log, .dagster/
"""

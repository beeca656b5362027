-- The dossier rows of the latest service-record extract, scored (macros/quality/row_scores.sql).
{{ row_scores('service_records') }}

-- Staged dossier versions with no quarantine issue: the rows the warehouse takes.
{{ kept_rows('service_records') }}

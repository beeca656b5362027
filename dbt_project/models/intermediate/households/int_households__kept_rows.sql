-- Staged households rows with no quarantine issue: the rows the warehouse takes.
{{ kept_rows('households') }}

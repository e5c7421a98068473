"""Open311 GeoReport v2 at /open311/v2/ (DESIGN.md §3, issue #13): discovery, services, service
definitions and service requests, each as XML (which the specification requires) and JSON, so that
civic-issue clients work unchanged. A service is a case kind × a top category of the region pack
(services.py); a request is a case, created through the same intake as `POST /api/v1/cases`
(intake.py) and listed without personal data (queries.py). Decisions: /work/brief/b-decisions.md,
merged into docs/decisions.md."""

"""The staff console: program staff's view of every partner's scores, the program's
statistics and the web import (`/staff/`).

Cross-tenant by nature: its reads say `.unscoped()` with the reason. What apps above scoring
(benefits) add to it comes through `scoring.console.hooks`, filled in from their
`AppConfig.ready`.
"""

"""The classroom studio: a local web page where every choice re-runs thousands of replicas.

The top library layer, beside the command line (``iraqsim studio`` starts it): ``state.py`` (the
page's state, its URL and the scenario it stands for), ``jobs.py`` (running it, dropping
superseded runs), ``charts.py`` (fan charts and distributions as SVG the browser draws at once),
``app.py`` (the Solara page; Solara is the optional ``studio`` extra). See docs/studio.md.
"""

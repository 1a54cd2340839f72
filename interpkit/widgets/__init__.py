"""Interactive views (ipywidgets) over explainers and Explanations, one view per module.

Each view is a ``VBox`` with a text box to explain your own sentence, the predicted label and
probabilities, its controls and one HTML area. Displayed in Jupyter it is interactive; its
static ``_repr_html_`` (the current rendering) keeps notebooks readable where widgets do not
render (GitHub, nbviewer). ``view.show()`` displays it from inside a function or loop.

Example
-------
>>> import interpkit
>>> clf = interpkit.demo_classifier()
>>> interpkit.AttentionView(clf, "a gripping, funny film")
>>> interpkit.SaliencyView(clf, "a gripping, funny film", method="integrated_gradients")
>>> view = interpkit.LimeView(clf, "a gripping, funny film", num_samples=500)
>>> view.run()                       # or press Run: LIME is slow
>>> interpkit.CompareView(clf, "a gripping, funny film")   # methods side by side, faithfulness
>>> interpkit.AuditView(interpkit.audit(clf))   # checks -> failing examples -> explanation
"""

from .attention import AttentionView
from .audit import AuditView
from .compare import CompareView
from .lime import LimeView
from .saliency import SaliencyView

__all__ = ["AttentionView", "AuditView", "CompareView", "LimeView", "SaliencyView"]

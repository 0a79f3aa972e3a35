"""The outbound guard: stop agent messages that sound like the documented banned phrasings (服务忌语).

>>> from guards import check
>>> verdict = check("喂，大聲一點兒！")
>>> verdict.allowed, verdict.hits[0].category, verdict.suggestion
(False, '命令语', '对不起,您的电话声音太小,请您拿起话筒说话好吗?')
"""

from guards.catalogue import CATEGORIES, Catalogue, CatalogueError, load_catalogue
from guards.marking import mark_spans
from guards.matcher import CHUNK_CHARS, Guard, Hit, Verdict, check, default_concepts, default_guard
from guards.normalize import Normalized, fold, normalize

__all__ = [
    "CATEGORIES",
    "CHUNK_CHARS",
    "Catalogue",
    "CatalogueError",
    "Guard",
    "Hit",
    "Normalized",
    "Verdict",
    "check",
    "default_concepts",
    "default_guard",
    "fold",
    "load_catalogue",
    "mark_spans",
    "normalize",
]

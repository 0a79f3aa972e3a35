"""The outbound guard: stop agent messages that sound like the documented banned phrasings (服务忌语).

>>> from guards import check
>>> verdict = check("喂，大聲一點兒！")
>>> verdict.allowed, verdict.hits[0].category, verdict.suggestion
(False, '命令语', '对不起，我没有看明白，麻烦您再说一遍好吗？')
"""

from guards.catalogue import CATEGORIES, Catalogue, CatalogueError, load_catalogue, load_shop_catalogue
from guards.marking import mark_spans
from guards.matcher import CHUNK_CHARS, Guard, Hit, Verdict, check, default_concepts, default_guard, use_shop
from guards.normalize import BOUNDARY, Normalized, fold, fold_clauses, normalize

__all__ = [
    "BOUNDARY",
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
    "fold_clauses",
    "load_catalogue",
    "load_shop_catalogue",
    "mark_spans",
    "normalize",
    "use_shop",
]

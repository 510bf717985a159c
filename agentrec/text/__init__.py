"""Item and user text, language-model encoders with an embedding cache, and the Chroma vector store.

``import agentrec.text`` is light: torch, sentence-transformers and chromadb load only when an encoder
embeds something or a store is opened.
"""

from agentrec.text.build import (
    ITEM_EMBEDDINGS_FILE,
    build_index,
    default_cache_dir,
    default_store_path,
    embed_catalog,
    item_popularity,
)
from agentrec.text.encoder import TextEncoder, default_model_path
from agentrec.text.filters import coerce_filters, where_clause
from agentrec.text.profile import (
    DEFAULT_ITEM_TEMPLATE,
    TEMPLATE_FIELDS,
    ItemTextTemplate,
    has_item_text,
    item_text,
    user_profile_text,
)
from agentrec.text.store import BuildStats, SearchHit, VectorStore

__all__ = [
    "DEFAULT_ITEM_TEMPLATE",
    "ITEM_EMBEDDINGS_FILE",
    "TEMPLATE_FIELDS",
    "BuildStats",
    "ItemTextTemplate",
    "SearchHit",
    "TextEncoder",
    "VectorStore",
    "build_index",
    "coerce_filters",
    "default_cache_dir",
    "default_model_path",
    "default_store_path",
    "embed_catalog",
    "item_popularity",
    "has_item_text",
    "item_text",
    "user_profile_text",
    "where_clause",
]

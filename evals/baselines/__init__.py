"""Baselines for the answer-accuracy benchmark: single-shot text-to-SQL and LangGraph's ReAct agent,
both on the same model and warehouse as atomwork.
"""

from atomwork.evals.baselines.react import AtomworkChatModel, ReactSystem
from atomwork.evals.baselines.text_to_sql import TextToSqlSystem

__all__ = ["AtomworkChatModel", "ReactSystem", "TextToSqlSystem"]

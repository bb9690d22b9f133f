"""Who may import whom: the dependencies that keep one home per concern.

Read from the source with ``ast`` (nothing is imported), so a test fails on
the import line that breaks a rule, whether or not a test happens to run it.
"""

import ast
from pathlib import Path

import comptoir

PACKAGE = Path(comptoir.__file__).parent


def imports_of(path: Path) -> set[tuple[str, str]]:
    """(module, name) for every ``from module import name``; (module, "") for ``import module``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.update((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update((alias.name, "") for alias in node.names)
    return found


def sources(folder: str) -> list[Path]:
    paths = (PACKAGE / folder).rglob("*.py")
    return sorted(path for path in paths if "migrations" not in path.parts)


def test_conversations_never_import_the_assistant():
    """The assistant builds on conversations; it hangs on their events (assistant.listeners)."""
    offenders = [
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in sources("conversations")
        for module, _ in imports_of(path)
        if module.startswith("comptoir.assistant")
    ]
    assert offenders == []


def test_the_phone_writes_messages_only_through_conversation_actions():
    """Calls and callbacks never touch ``Message`` rows (only the models refer to them)."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sources("touchpoints/phone")
        if path.name != "models.py"
        and ("comptoir.conversations.models", "Message") in imports_of(path)
    ]
    assert offenders == []


def test_the_assistant_pipeline_is_imported_only_to_run_it():
    """Constants and texts live in their own modules: reading them never loads the pipeline."""
    pipeline = {"process_job", "analyse", "decide", "human_in_charge", "Analysis", "Decision"}
    imported = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sources(".")
        for module, name in imports_of(path)
        if module == "comptoir.assistant.processing" and name not in pipeline
    }
    assert imported == set()
    processing = ast.parse((PACKAGE / "assistant" / "processing.py").read_text(encoding="utf-8"))
    constants = [
        target.id
        for node in processing.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    ]
    assert constants == []

"""The middle: target-neutral IR, the verb vocabulary, lowering and passes."""

"""Stand-in for `torch`, just enough for the seed project's key codec to import.

FloatPacker.py imports torch only to annotate `normalise_numbers(self, x: torch.Tensor)`, which the key codec never
calls; the annotation is evaluated when the class is defined, so `torch.Tensor` has to exist. Nothing else is used.
"""


class Tensor:
    pass

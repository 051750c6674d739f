"""`gradcalc check`: the gradients of the user's own PyTorch code, checked.

`target` finds and imports the function (the one place gradcalc runs code it
did not write), `inputs` reads the point, `methods` measures (reverse mode,
forward mode, finite differences), `judge` decides, `nans` traces a NaN
gradient to its line, `recorder` watches the operations run."""

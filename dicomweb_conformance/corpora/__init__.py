"""The data the checks read: the QIDO corpus and the STOW-RS bodies built on purpose."""

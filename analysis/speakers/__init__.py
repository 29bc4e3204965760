"""Who speaks when: speaker identity, references, attribution, timing and talk time.

How the parts fit, in the order the corpus build uses them:
``identity`` maps file labels to catalog people; ``reference`` reads the hand-made speaker
references (the ground truth of the seed episodes); ``attribution`` gives unlabelled speech a speaker with a
model trained on a labelled corpus of other shows and those references (``training``: the
committed artifact ``data/speakers.model.json``; ``labelled`` reads the corpus), or refuses with a
reason; ``timing`` gives every utterance start/end seconds; ``talktime`` computes the talk-time tables from the corpus (``questions`` says which sentences
are questions to the other person); ``evaluation`` measures attribution and timing against the
references (leave one episode out) and prints the cross-show figures the artifact holds."""

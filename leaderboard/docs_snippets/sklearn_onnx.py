import numpy as np
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

# Your trained classifier (a stand-in here), fitted on images flattened to C*H*W features
# (here 1*28*28), normalised as the challenge page says.
X = np.random.default_rng(0).normal(size=(100, 1 * 28 * 28)).astype(np.float32)
clf = LogisticRegression(max_iter=100).fit(X, np.arange(100) % 10)

# zipmap=False: the probabilities as one [N, classes] array, not a list of dictionaries.
onx = to_onnx(clf, X[:1], options={"zipmap": False})
with open("model.onnx", "wb") as f:
    f.write(onx.SerializeToString())

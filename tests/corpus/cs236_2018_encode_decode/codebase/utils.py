import numpy as np
import os
import shutil
import torch
from codebase.models.gmvae import GMVAE
from codebase.models.ssvae import SSVAE
from codebase.models.vae import VAE
from torch.nn import functional as F
from torchvision import datasets, transforms

bce = torch.nn.BCEWithLogitsLoss(reduction='none')

################################################################################
# Helpers. Shapes are written as argument: type: shape
################################################################################

def sample_gaussian(m, v):
	"""
	Draws one reparameterized sample from N(m, v), element by element

	Args:
		m: tensor: (batch, ...): Mean
		v: tensor: (batch, ...): Variance

	Return:
		z: tensor: (batch, ...): Samples
	"""
	################################################################################
	# TODO: Modify/complete the code here
	################################################################################
	noise = torch.randn(m.shape)
	z = m + torch.sqrt(v) * noise
	################################################################################
	# End of code modification
	################################################################################
	return z


def log_normal(x, m, v):
	"""
	Log density of a diagonal Gaussian, summed over the last dim

	Args:
		x: tensor: (batch, ..., dim): Observation
		m: tensor: (batch, ..., dim): Mean
		v: tensor: (batch, ..., dim): Variance

	Return:
		log_prob: tensor: (batch, ...): one value per leading index
	"""
	################################################################################
	# TODO: Modify/complete the code here
	################################################################################
	#print(x.shape, m.shape, v.shape)
	log_const = -0.5 * np.log(2 * np.pi)
	log_det = -0.5 * torch.log(v)
	log_quad = -0.5 * (x - m) ** 2 / v
	log_prob = torch.sum(log_const + log_det + log_quad, dim=-1)
	################################################################################
	# End of code modification
	################################################################################
	return log_prob


def log_normal_mixture(z, m, v):
	"""
	Log density of a uniform mixture of Gaussians

	Args:
		z: tensor: (batch, dim): Observations
		m: tensor: (batch, mix, dim): Mixture means
		v: tensor: (batch, mix, dim): Mixture variances

	Return:
		log_prob: tensor: (batch,): log probability of each sample
	"""
	################################################################################
	# TODO: Modify/complete the code here
	################################################################################
	z = z.unsqueeze(1) # (batch, 1, dim) so that it broadcasts against every component
	per_component = log_normal(z, m, v) # (batch, mix)
	log_prob = log_mean_exp(per_component, 1)
	################################################################################
	# End of code modification
	################################################################################
	return log_prob


def gaussian_parameters(h, dim=-1):
	m, h = torch.split(h, h.size(dim) // 2, dim=dim)
	v = F.softplus(h) + 1e-8
	return m, v


def log_bernoulli_with_logits(x, logits):
	log_prob = -bce(input=logits, target=x).sum(-1)
	return log_prob


def kl_cat(q, log_q, log_p):
	element_wise = (q * (log_q - log_p))
	kl = element_wise.sum(-1)
	return kl


def kl_normal(qm, qv, pm, pv):
	element_wise = 0.5 * (torch.log(pv) - torch.log(qv) + qv / pv + (qm - pm).pow(2) / pv - 1)
	kl = element_wise.sum(-1)
	return kl


def duplicate(x, rep):
	return x.expand(rep, *x.shape).reshape(-1, *x.shape[1:])


def log_mean_exp(x, dim):
	return log_sum_exp(x, dim) - np.log(x.size(dim))


def log_sum_exp(x, dim=0):
	max_x = torch.max(x, dim)[0]
	new_x = x - max_x.unsqueeze(dim).expand_as(x)
	return max_x + (new_x.exp().sum(dim)).log()


def load_model_by_name(model, global_step):
	file_path = os.path.join('checkpoints', model.name, 'model-{:05d}.pt'.format(global_step))
	state = torch.load(file_path)
	model.load_state_dict(state)
	print("Loaded from {}".format(file_path))


################################################################################
# Evaluation, checkpoints and data
################################################################################

def evaluate_lower_bound(model, labeled_test_subset, run_iwae=True):
	assert isinstance(model, VAE) or isinstance(model, GMVAE), "only for VAE and GMVAE"
	xl, _ = labeled_test_subset
	torch.manual_seed(0)
	xl = torch.bernoulli(xl)

	def average(fn, repeat):
		total = [0, 0, 0]
		for _ in range(repeat):
			values = [t.detach() for t in fn(xl)]
			for i in range(3):
				total[i] += values[i] / repeat
		return total

	nelbo, kl, rec = average(model.negative_elbo_bound, 100)
	print("NELBO: {}. KL: {}. Rec: {}".format(nelbo, kl, rec))
	if run_iwae:
		for iw in [1, 10, 100, 1000]:
			niwae, _, _ = average(lambda x: model.negative_iwae_bound(x, iw), max(100 // iw, 1))
			print("Negative IWAE-{}: {}".format(iw, niwae))


def evaluate_classifier(model, test_set):
	assert isinstance(model, SSVAE), "only for SSVAE"
	X, y = test_set
	pred = model.cls.classify(X)
	accuracy = (pred.argmax(1) == y).float().mean()
	print("Test set classification accuracy: {}".format(accuracy))


def save_model_by_name(model, global_step):
	save_dir = os.path.join('checkpoints', model.name)
	if not os.path.exists(save_dir):
		os.makedirs(save_dir)
	file_path = os.path.join(save_dir, 'model-{:05d}.pt'.format(global_step))
	torch.save(model.state_dict(), file_path)
	print('Saved to {}'.format(file_path))


def prepare_writer(model_name, overwrite_existing=False):
	for folder in (os.path.join('logs', model_name), os.path.join('checkpoints', model_name)):
		if overwrite_existing and os.path.exists(folder):
			print("Deleting existing path: {}".format(folder))
			shutil.rmtree(folder)
	return None


def log_summaries(writer, summaries, global_step):
	pass


def get_mnist_data(device, use_test_subset=True):
	preprocess = transforms.ToTensor()
	train_loader = torch.utils.data.DataLoader(
		datasets.MNIST('data', train=True, download=True, transform=preprocess),
		batch_size=100,
		shuffle=True)
	test_set = datasets.MNIST('data', train=False, download=True, transform=preprocess)
	X_test = test_set.data.to(device).reshape(-1, 784).float() / 255
	y_test = test_set.targets.to(device)
	xl, yl = [], []
	for i in range(10):
		xl += [X_test[y_test == i][:10]]
		yl += [y_test[y_test == i][:10]]
	xl = torch.cat(xl).to(device)
	yl = torch.cat(yl).to(device)
	yl = yl.new(np.eye(10)[yl.cpu()])
	return train_loader, (xl, yl), (X_test, y_test)

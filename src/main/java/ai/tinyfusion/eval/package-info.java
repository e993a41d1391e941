/**
 * Sample quality as the ADM evaluator (openai/guided-diffusion {@code evaluations/evaluator.py}): FID and
 * sFID (Fréchet distance), Inception Score, precision/recall (k = 3), plus class accuracy, FID bootstrap,
 * with a small Fashion-MNIST feature network ({@code FeatureNet}) standing in for Inception; reports and
 * image grids.
 */
package ai.tinyfusion.eval;

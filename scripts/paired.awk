# SPDX-License-Identifier: MIT
# paired.awk - the median of paired ratios, one a line on input, with an
# interval of at least 90% confidence for the true median that assumes nothing
# about the noise (sign test: order statistics k and n + 1 - k, the largest k
# with P(Binomial(n, 1/2) < k) <= 5%). Prints "median min max n lo hi", with
# "- -" for lo hi when there are fewer than 5 pairs, too few for one.
#   awk -f scripts/paired.awk ratios.txt
$1 + 0 > 0 { v[++n] = $1 + 0 }
END {
	if (!n) { print "0 0 0 0 - -"; exit }
	for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
	p = 0.5 ^ n; cum = 0; k = 0
	for (i = 0; i < n; i++) { cum += p; if (cum > 0.05) break; k = i + 1; p = p * (n - i) / (i + 1) }
	ci = k ? sprintf("%.3f %.3f", v[k], v[n + 1 - k]) : "- -"
	printf "%.3f %.3f %.3f %d %s\n", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, v[1], v[n], n, ci
}

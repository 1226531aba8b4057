# Oracle for tests/test_metafor_differential.py: fits every data set of the JSON input with
# R metafor and writes the results as JSON.
#
#   Rscript tests/r/metafor_oracle.R IN.json OUT.json
#
# IN.json:  {"datasets": [{"id", "kind" ("cont"|"bin"|"gen"), "measure", columns, "fits": [...],
#             "groups", "loo", "bias", "threshold"}]}
# Every result is either numbers (NA/NaN -> null) or {"error": message} where metafor stops.
# Convergence of the iterative tau^2 estimators is tightened (metafor's defaults stop REML when
# the change in tau^2 is below 1e-5 and PM's uniroot at tol = eps^0.25 ~ 1.2e-4, absolute), so
# that the estimators themselves, not their stopping rules, are compared.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
inp <- fromJSON(args[1], simplifyVector = TRUE, simplifyDataFrame = FALSE)

num <- function(x) {
  x <- as.numeric(x)
  x
}

escalc_for <- function(d, measure = d$measure, drop00 = NULL) {
  if (d$kind == "cont") {
    escalc(measure = measure, m1i = num(d$m1), sd1i = num(d$sd1), n1i = num(d$n1),
           m2i = num(d$m2), sd2i = num(d$sd2), n2i = num(d$n2))
  } else if (d$kind == "bin") {
    if (is.null(drop00)) drop00 <- measure %in% c("OR", "RR")
    escalc(measure = measure, ai = num(d$ai), n1i = num(d$n1), ci = num(d$ci), n2i = num(d$n2),
           drop00 = drop00)
  } else {
    data.frame(yi = num(d$yi), vi = num(d$vi))
  }
}

ctrl_for <- function(d, stepadj = 1, loosen = 1) {
  # evtol: metafor's full-rank check is absolute (1e-7 on X'X); relaxed so that small-scale
  # data (SEs ~ 1e-5) are fitted rather than refused.
  list(threshold = d$threshold * loosen, tol = 1e-30, maxiter = 10000, stepadj = stepadj,
       evtol = 1e-300)
}

# f(control) with the tight control; if Fisher scoring does not converge (it converges slowly
# with one residual df), again with halved steps, then with a threshold of 1e-10 x median(vi).
with_ctrl <- function(d, f) {
  tryCatch(f(ctrl_for(d)), error = function(e) {
    tryCatch(f(ctrl_for(d, stepadj = 0.5)), error = function(e) f(ctrl_for(d, loosen = 1e4)))
  })
}

rma_tight <- function(d, ...) {
  with_ctrl(d, function(ctrl) rma(..., control = ctrl))
}

fit_one <- function(d, f, keep = rep(TRUE, length(d$slab))) {
  sub <- function(x) num(x)[keep]
  if (f$kind == "mh" || f$kind == "peto") {
    fun <- if (f$kind == "mh") rma.mh else rma.peto
    a <- list(ai = sub(d$ai), n1i = sub(d$n1), ci = sub(d$ci), n2i = sub(d$n2))
    if (f$kind == "mh") a$measure <- d$measure
    return(do.call(fun, a))
  }
  es <- escalc_for(d)
  rma_tight(d, yi = es$yi[keep], vi = es$vi[keep], method = f$method, test = f$test)
}

pooled_of <- function(r, f) {
  out <- list(estimate = r$beta[1], se = r$se, stat = r$zval, p = r$pval,
              ci_low = r$ci.lb, ci_high = r$ci.ub, Q = r$QE, Qp = r$QEp, I2 = r$I2,
              H2 = r$H2, k = r$k)
  # Q-based I2/H2 (what metafor prints for equal-effects models), from this model's QE
  dfq <- (if (is.null(r$k.yi)) r$k else r$k.yi) - 1
  out$I2_Q <- if (dfq > 0) max(0, 100 * (r$QE - dfq) / r$QE) else 0
  out$H2_Q <- if (dfq > 0) r$QE / dfq else 1
  if (f$kind == "rma") {
    out$tau2 <- r$tau2
    out$df <- if (is.null(r$dfs)) NA else r$dfs
    if (f$method != "EE") {
      pr <- predict(r)
      out$pi_low <- pr$pi.lb
      out$pi_high <- pr$pi.ub
    }
  }
  out$weights <- unname(weights(r))
  out
}

safe <- function(expr) {
  tryCatch(suppressWarnings(expr), error = function(e) list(error = conditionMessage(e)))
}

loo_of <- function(d, f) {
  k <- length(d$slab)
  rows <- lapply(seq_len(k), function(i) {
    keep <- rep(TRUE, k)
    keep[i] <- FALSE
    safe({
      r <- fit_one(d, f, keep)
      # leave1out() reports the same quantities; refitting lets us report why a row is NA
      dfq <- (if (is.null(r$k.yi)) r$k else r$k.yi) - 1
      list(estimate = r$beta[1], se = r$se, ci_low = r$ci.lb, ci_high = r$ci.ub, p = r$pval,
           Q = r$QE, I2 = r$I2, tau2 = if (is.null(r$tau2)) NA else r$tau2,
           I2_Q = if (dfq > 0) max(0, 100 * (r$QE - dfq) / r$QE) else 0)
    })
  })
  rows
}

subgroups_of <- function(d, f) {
  g <- unlist(d$groups)
  k <- length(g)
  names <- unique(g)
  es <- escalc_for(d, measure = if (f$kind == "peto") "PETO" else d$measure)
  res <- lapply(names, function(nm) {
    safe({
      inn <- g == nm & !is.na(es$yi)
      # a subgroup of one study is that study's own row (k = 1 is not pooled)
      r <- if (sum(inn) == 1 && sum(g == nm) == 1) {
        rma(yi = es$yi[inn], vi = es$vi[inn], method = "EE")
      } else {
        fit_one(d, f, g == nm)
      }
      list(estimate = r$beta[1], se = r$se, ci_low = r$ci.lb, ci_high = r$ci.ub,
           Q = r$QE, tau2 = if (is.null(r$tau2)) NA else r$tau2, k = r$k)
    })
  })
  ok <- vapply(res, function(x) is.null(x$error) && is.finite(x$estimate) &&
                 is.finite(x$se) && x$se > 0, logical(1))
  # fewer than two estimable subgroups: no test (the library reports Q = 0 on 0 df, p = NA)
  qb <- list(Q_between = if (sum(ok) == 1) 0 else NA, df = max(sum(ok) - 1, 0), p = NA)
  if (sum(ok) >= 2) {
    est <- vapply(res[ok], function(x) x$estimate, numeric(1))
    se <- vapply(res[ok], function(x) x$se, numeric(1))
    b <- rma(yi = est, sei = se, method = "EE")
    qb <- list(Q_between = b$QE, df = sum(ok) - 1, p = b$QEp)
  }
  list(names = names, groups = res, test = qb)
}

bias_of <- function(d) {
  es <- escalc_for(d)
  ok <- !is.na(es$yi)
  yi <- es$yi[ok]
  vi <- es$vi[ok]
  base <- rma(yi = yi, vi = vi, method = "EE")
  eg <- safe({
    t <- regtest(base, model = "lm")
    list(bias = unname(coef(t$fit)[2]), stat = t$zval, p = t$pval, df = t$dfs,
         limit_estimate = t$est, limit_ci_low = t$ci.lb, limit_ci_high = t$ci.ub)
  })
  # regtest(rma(yi, vi), model = "rma") is this meta-regression on sei (fitted directly so that
  # the tight control applies to it too).
  eg_rma <- safe({
    t <- rma_tight(d, yi = yi, vi = vi, mods = sqrt(vi), method = "REML")
    list(stat = t$zval[2], p = t$pval[2])
  })
  bg <- safe({
    t <- ranktest(yi, vi)
    list(tau = t$tau, p = t$pval)
  })
  tf <- safe({
    # trimfill passes ... to each rma.uni() refit, so the tight control applies throughout
    t <- with_ctrl(d, function(ctrl) {
      trimfill(rma(yi = yi, vi = vi, method = "REML", control = ctrl), control = ctrl)
    })
    list(k0 = t$k0, side = t$side, estimate = t$beta[1], se = t$se, tau2 = t$tau2)
  })
  tf_fe <- safe({
    t <- trimfill(rma(yi = yi, vi = vi, method = "EE"), control = ctrl_for(d))
    list(k0 = t$k0, side = t$side, estimate = t$beta[1], se = t$se)
  })
  list(egger_lm = eg, egger_rma = eg_rma, begg = bg, trimfill = tf, trimfill_fe = tf_fe)
}

out <- list()
for (d in inp$datasets) {
  res <- list()
  es <- safe(escalc_for(d))
  res$escalc <- if (is.null(es$error)) list(yi = num(es$yi), vi = num(es$vi)) else es
  # Each study on its own: rma(yi_i, vi_i, method = "EE") of its escalc row (and of its Peto
  # row for OR): what a single study (k = 1) shows, the library not pooling it.
  single_of <- function(yi, vi) {
    lapply(seq_along(yi), function(i) {
      if (is.na(yi[i]) || is.na(vi[i])) return(NULL)
      r <- rma(yi = yi[i], vi = vi[i], method = "EE")
      list(estimate = r$beta[1], se = r$se, stat = r$zval, p = r$pval, ci_low = r$ci.lb,
           ci_high = r$ci.ub, Q = r$QE, Qp = r$QEp, I2 = r$I2, H2 = r$H2)
    })
  }
  if (is.null(es$error)) res$singles <- single_of(num(es$yi), num(es$vi))
  if (d$kind == "bin" && d$measure == "OR") {
    pe <- escalc_for(d, measure = "PETO")
    res$peto_rows <- list(yi = num(pe$yi), vi = num(pe$vi))
    res$peto_singles <- single_of(num(pe$yi), num(pe$vi))
  }
  fits <- list()
  for (f in d$fits) {
    one <- safe(pooled_of(fit_one(d, f), f))
    if (isTRUE(d$loo)) one$loo <- loo_of(d, f)
    if (!is.null(d$groups)) one$subgroups <- subgroups_of(d, f)
    fits[[f$id]] <- one
  }
  res$fits <- fits
  if (isTRUE(d$bias)) res$bias <- bias_of(d)
  out[[d$id]] <- res
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null"), args[2])

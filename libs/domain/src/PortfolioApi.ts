/** Trader's portfolio: every deployment's account marked to market, and all of them together. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BodyPolicy } from "./BodyPolicy"
import { DeploymentId } from "./Deployment"
import { NotFound, ServiceUnavailable } from "./Errors"
import { AccountPortfolio, Portfolio } from "./Portfolio"

const id = HttpApiSchema.param("id", Schema.NumberFromString.pipe(Schema.compose(DeploymentId)))

export class PortfolioGroup extends HttpApiGroup.make("portfolio")
  .add(
    HttpApiEndpoint.get("all", "/portfolio")
      .addSuccess(Portfolio)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Every deployment's account and their sum")
  )
  .add(
    HttpApiEndpoint.get("account")`/portfolio/${id}`
      .addSuccess(AccountPortfolio)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "One deployment's account")
  )
  .middleware(BodyPolicy)
  .annotate(
    OpenApi.Description,
    "Portfolio: positions, PnL, equity and drawdown, exposure, fills and fees"
  ) {}

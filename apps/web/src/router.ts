/** One route per page; pages load on first visit so the chart library only ships with the explorer. */
import { createRouter, createWebHistory } from "vue-router"

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    {
      path: "/",
      name: "overview",
      component: () => import("./pages/OverviewPage.vue"),
      meta: { title: "Overview" }
    },
    {
      path: "/providers/:name?",
      name: "providers",
      component: () => import("./pages/ProvidersPage.vue"),
      meta: { title: "Providers" }
    },
    {
      path: "/assets",
      name: "assets",
      component: () => import("./pages/AssetsPage.vue"),
      meta: { title: "Assets" }
    },
    {
      path: "/mappings",
      name: "mappings",
      component: () => import("./pages/MappingsPage.vue"),
      meta: { title: "Mappings" }
    },
    {
      path: "/subscriptions",
      name: "subscriptions",
      component: () => import("./pages/SubscriptionsPage.vue"),
      meta: { title: "Subscriptions" }
    },
    {
      path: "/explorer",
      name: "explorer",
      component: () => import("./pages/ExplorerPage.vue"),
      meta: { title: "Data explorer" }
    },
    {
      path: "/strategies/:name?",
      name: "strategies",
      component: () => import("./pages/StrategiesPage.vue"),
      meta: { title: "Strategies" }
    },
    {
      path: "/backtests/:id?",
      name: "backtests",
      component: () => import("./pages/BacktestsPage.vue"),
      meta: { title: "Backtests" }
    },
    {
      path: "/deployments/:id?",
      name: "deployments",
      component: () => import("./pages/DeploymentsPage.vue"),
      meta: { title: "Deployments" }
    },
    {
      path: "/portfolio",
      name: "portfolio",
      component: () => import("./pages/PortfolioPage.vue"),
      meta: { title: "Portfolio" }
    },
    {
      path: "/:missing(.*)*",
      name: "not-found",
      component: () => import("./pages/NotFoundPage.vue"),
      meta: { title: "Not found" }
    }
  ]
})

router.afterEach((to) => {
  const title = typeof to.meta.title === "string" ? to.meta.title : ""
  document.title = title ? `${title} · Quasar` : "Quasar"
})

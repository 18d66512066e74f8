export {
  type CacheMetricsOptions,
  type QueueFigures,
  registerCacheMetrics,
} from './metrics/prometheus.js'

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Readiness as a metric, <c>health.ready</c> (<c>health_ready</c> in Prometheus): 1 while every readiness
/// check last passed, 0 otherwise. The checks are run every few seconds by the health-check publisher, the
/// same checks that <c>/health</c> runs, so an alert sees what the orchestrator sees without scraping
/// <c>/health</c>; <c>/metrics</c> keeps answering while a dependency is down, which is when it matters.
/// </summary>
internal sealed class ReadinessMetric : IHealthCheckPublisher
{
    /// <summary>How often the checks run for the metric.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    // Not ready until the first report says otherwise.
    private int ready;

    public ReadinessMetric(IMeterFactory meterFactory, IHostEnvironment environment) =>
        meterFactory.Create(environment.ApplicationName).CreateObservableGauge(
            "health.ready", () => Volatile.Read(ref ready), "{ready}", "1 while every readiness check last passed, 0 otherwise.");

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        // As /health answers: 200 unless a check is unhealthy.
        Volatile.Write(ref ready, report.Status == HealthStatus.Unhealthy ? 0 : 1);
        return Task.CompletedTask;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Microsoft.Extensions.Hosting;

public static partial class Extensions
{
    /// <summary>
    /// The standard pipeline (rate limiter, total timeout, retry, circuit breaker, attempt timeout),
    /// except that POST, PUT, PATCH and DELETE are never retried: a retried write the server already
    /// applied would be applied twice.
    /// </summary>
    public static IHttpClientBuilder AddServiceDefaultsResilience(this IHttpClientBuilder http)
    {
        http.AddStandardResilienceHandler(ConfigureResilience);
        return http;
    }

    internal static void ConfigureResilience(HttpStandardResilienceOptions options) =>
        options.Retry.DisableForUnsafeHttpMethods();
}

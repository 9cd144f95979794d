using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>The proxies in front of the service whose X-Forwarded-For and X-Forwarded-Proto are believed.</summary>
public sealed class TrustedProxiesOptions
{
    public const string SectionName = "ForwardedHeaders";

    /// <summary>Addresses of trusted proxies, such as <c>10.0.0.10</c>.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies, such as <c>10.0.0.0/8</c>.</summary>
    public string[] KnownNetworks { get; set; } = [];

    public bool AnyConfigured => KnownProxies.Length > 0 || KnownNetworks.Length > 0;
}

public static partial class Extensions
{
    /// <summary>
    /// Forwarded headers are honoured only from the proxies configured under <c>ForwardedHeaders</c>
    /// (none by default: a client cannot pose as another address or scheme), and outside Development every
    /// HTTPS answer carries HSTS.
    /// </summary>
    private static TBuilder AddDefaultTransportSecurity<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<TrustedProxiesOptions>()
            .BindConfiguration(TrustedProxiesOptions.SectionName)
            .Validate(
                trusted => trusted.KnownProxies.All(proxy => IPAddress.TryParse(proxy, out _))
                    && trusted.KnownNetworks.All(network => System.Net.IPNetwork.TryParse(network, out _)),
                "ForwardedHeaders:KnownProxies takes IP addresses and ForwardedHeaders:KnownNetworks CIDR ranges.")
            .ValidateOnStart();

        // Both lists empty would mean "trust every peer" to the middleware: with nothing configured it does
        // not run at all (see UseDefaultTransportSecurity).
        builder.Services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<TrustedProxiesOptions>>((options, trusted) =>
            {
                options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                options.KnownProxies.Clear();
                options.KnownIPNetworks.Clear();
                foreach (var proxy in trusted.Value.KnownProxies)
                {
                    options.KnownProxies.Add(IPAddress.Parse(proxy));
                }

                foreach (var network in trusted.Value.KnownNetworks)
                {
                    options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
                }
            });

        builder.Services.AddHsts(options =>
        {
            options.MaxAge = TimeSpan.FromDays(365);
            options.IncludeSubDomains = true;
        });

        return builder;
    }

    private static void UseDefaultTransportSecurity(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<TrustedProxiesOptions>>().Value.AnyConfigured)
        {
            app.UseForwardedHeaders();
        }

        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }
    }
}

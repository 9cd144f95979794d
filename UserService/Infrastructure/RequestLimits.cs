namespace UserService.Infrastructure;

/// <summary>Bounds on what a single request may ask of the service.</summary>
public static class RequestLimits
{
    /// <summary>A user is well under 1 KiB of JSON; 16 KiB leaves room and refuses bulk uploads.</summary>
    public const long MaxBodyBytes = 16 * 1024;

    public const int MaxHeaderBytes = 16 * 1024;

    /// <summary>The contracts are flat objects; nothing legitimate nests deeper.</summary>
    public const int MaxJsonDepth = 8;

    public static IHostApplicationBuilder AddRequestLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = MaxHeaderBytes;
        });
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.MaxDepth = MaxJsonDepth);

        return builder;
    }
}

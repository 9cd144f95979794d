using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace UserService.Infrastructure;

/// <summary>Bounds on what a single request may ask of the service.</summary>
public static class RequestLimits
{
    /// <summary>A user is well under 1 KiB of JSON; 16 KiB leaves room and refuses bulk uploads.</summary>
    public const long MaxBodyBytes = 16 * 1024;

    /// <summary>Headers past this answer 431 with problem details.</summary>
    public const int MaxHeaderBytes = 16 * 1024;

    /// <summary>
    /// Where Kestrel itself stops reading headers. Kestrel's own refusals (this limit, a request line it
    /// cannot parse, a NUL in the path) come before any application code and carry no body: Kestrel has no
    /// hook for them. Kestrel's limit is set above <see cref="MaxHeaderBytes"/> so that the service, not
    /// Kestrel, refuses the headers a client is likely to send.
    /// </summary>
    public const int KestrelMaxHeaderBytes = 64 * 1024;

    /// <summary>The contracts are flat objects; nothing legitimate nests deeper.</summary>
    public const int MaxJsonDepth = 8;

    public static IHostApplicationBuilder AddRequestLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = KestrelMaxHeaderBytes;
            // Naming the server tells a prober which parser's bugs to try; no client needs it.
            kestrel.AddServerHeader = false;
        });
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.MaxDepth = MaxJsonDepth);
        // Before every other middleware: headers this large are refused before anything reads them.
        builder.Services.AddTransient<IStartupFilter, HeaderLimitStartupFilter>();

        return builder;
    }

    private sealed class HeaderLimitStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) => HeaderBytes(context.Request.Headers) <= MaxHeaderBytes
                ? nextMiddleware(context)
                : RefuseAsync(context));
            next(app);
        };

        /// <summary>Counted as Kestrel counts them: each line's name, ": ", value and line break.</summary>
        private static long HeaderBytes(IHeaderDictionary headers)
        {
            long total = 0;
            foreach (var (name, values) in headers)
            {
                foreach (var value in values)
                {
                    total += name.Length + (value?.Length ?? 0) + 4;
                }
            }

            return total;
        }

        private static Task RefuseAsync(HttpContext context)
        {
            context.Response.StatusCode = StatusCodes.Status431RequestHeaderFieldsTooLarge;
            return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status431RequestHeaderFieldsTooLarge,
                    Title = "Request headers too large",
                    Detail = $"The request's headers may take at most {MaxHeaderBytes / 1024} KiB.",
                },
            }).AsTask();
        }
    }
}

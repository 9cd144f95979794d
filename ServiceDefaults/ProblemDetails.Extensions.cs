using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static partial class Extensions
{
    /// <summary>
    /// RFC 9457 problem details for every error, with validation errors keyed by the names the client used:
    /// the JSON names (<c>username</c>), not the C# ones (<c>Username</c>) that validation reports.
    /// </summary>
    private static TBuilder AddDefaultProblemDetails<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var naming = context.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions.PropertyNamingPolicy;
            if (context.ProblemDetails is not HttpValidationProblemDetails validation || naming is null)
            {
                return;
            }

            var errors = validation.Errors.ToList();
            validation.Errors.Clear();
            foreach (var (field, messages) in errors)
            {
                validation.Errors[string.Join('.', field.Split('.').Select(naming.ConvertName))] = messages;
            }
        });

        // A body that does not parse is the caller's mistake: answer 400 with problem details in every
        // environment, instead of an exception that the exception handler would turn into a 500.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);

        return builder;
    }
}

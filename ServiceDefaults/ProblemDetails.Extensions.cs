using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
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

        // After the default writer, which writes only what the request's Accept allows: an error gets its
        // problem details even when the caller asked for text/html.
        builder.Services.AddSingleton<IProblemDetailsWriter, AnyAcceptProblemDetailsWriter>();

        // A body that does not parse is the caller's mistake: answer 400 with problem details in every
        // environment, instead of an exception that the exception handler would turn into a 500.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);

        return builder;
    }

    /// <summary>Writes problem details as JSON whatever the request's Accept says; the default writer goes first.</summary>
    private sealed class AnyAcceptProblemDetailsWriter(IOptions<ProblemDetailsOptions> options, IOptions<JsonOptions> json) : IProblemDetailsWriter
    {
        public bool CanWrite(ProblemDetailsContext context) => true;

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            var problem = context.ProblemDetails;
            var response = context.HttpContext.Response;
            problem.Status ??= response.StatusCode;
            problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
            problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? context.HttpContext.TraceIdentifier);
            options.Value.CustomizeProblemDetails?.Invoke(context);

            response.ContentType = "application/problem+json";
            return new(JsonSerializer.SerializeAsync(response.Body, problem, problem.GetType(), json.Value.SerializerOptions, context.HttpContext.RequestAborted));
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
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
            if (context.ProblemDetails is { Status: StatusCodes.Status400BadRequest } and not HttpValidationProblemDetails
                && UnreadableParameters(context.HttpContext) is { Count: > 0 } unreadable)
            {
                context.ProblemDetails.Title = "One or more validation errors occurred.";
                context.ProblemDetails.Extensions["errors"] = unreadable;
                return;
            }

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

        // A body that does not parse is the caller's mistake: thrown, so that the handler below can say which
        // member it was, and answered 400 in every environment, never a 500.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestHandler>();

        return builder;
    }

    /// <summary>
    /// Refuses with 400, naming each, the numeric query parameters sent empty (<c>?after=</c>), which the
    /// framework would take as absent, or that do not parse.
    /// </summary>
    public static TBuilder RefuseUnreadableQueryNumbers<TBuilder>(this TBuilder endpoint) where TBuilder : IEndpointConventionBuilder =>
        endpoint.AddEndpointFilter(async (context, next) =>
            UnreadableParameters(context.HttpContext) is { Count: > 0 } unreadable ? TypedResults.ValidationProblem(unreadable) : await next(context));

    /// <summary>
    /// The query parameters of the request's endpoint whose value, empty included, does not parse as the
    /// number the endpoint reads, each with what it must be. The framework answers such a request 400
    /// without saying which, or, for an empty one, reads the default.
    /// </summary>
    private static Dictionary<string, string[]> UnreadableParameters(HttpContext context)
    {
        var unreadable = new Dictionary<string, string[]>();
        foreach (var parameter in context.GetEndpoint()?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [])
        {
            var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
            if (context.Request.Query.TryGetValue(parameter.Name, out var values)
                && values.Any(value => type == typeof(long) ? !long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
                    : type == typeof(int) && !int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
            {
                unreadable[parameter.Name] = [$"{parameter.Name} must be a whole number within the range the API document gives."];
            }
        }

        return unreadable;
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
            // By its type info, which AddProblemDetails registers for every problem details type: no reflection.
            return new(JsonSerializer.SerializeAsync(response.Body, problem, json.Value.SerializerOptions.GetTypeInfo(problem.GetType()), context.HttpContext.RequestAborted));
        }
    }

    /// <summary>
    /// A body the framework could not read, answered as any invalid field is: 400 with validation problem
    /// details whose errors name the JSON member by its path (<c>role</c>), or <c>body</c> for a body that is
    /// not a JSON object at all. Other statuses the server refuses a request with (413 for a body too large)
    /// keep their status, as problem details. Query parameters that do not parse are named where the
    /// framework's bare 400 becomes problem details (<see cref="UnreadableParameters"/>).
    /// </summary>
    private sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException refused || context.Response.HasStarted)
            {
                return false;
            }

            context.Response.StatusCode = refused.StatusCode;
            AspNetCore.Mvc.ProblemDetails problem = refused.StatusCode == StatusCodes.Status400BadRequest && Field(refused) is var (field, message)
                ? new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
                : new AspNetCore.Mvc.ProblemDetails();
            problem.Status = refused.StatusCode;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
        }

        private static (string Field, string Message)? Field(BadHttpRequestException refused)
        {
            if (refused.InnerException is JsonException json)
            {
                var path = json.Path is { Length: > 2 } member ? member[2..].Replace("['", "", StringComparison.Ordinal).Replace("']", "", StringComparison.Ordinal) : null;
                return path is null ? ("body", "The body is not the JSON object this operation reads.")
                    : json.Message.Contains("could not be mapped", StringComparison.Ordinal) ? (path, $"{path} is not a field of this request.")
                    : json.Message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase) ? (path, $"{path} appears more than once.")
                    : (path, $"{path} does not have the type this operation reads.");
            }

            return null;
        }
    }
}

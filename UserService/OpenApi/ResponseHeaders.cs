namespace UserService.OpenApi;

/// <summary>A header an endpoint sends with one of its statuses, always or only sometimes, for the API document.</summary>
public sealed record ResponseHeaderMetadata(int StatusCode, string Name, string Description, bool Always);

public static class ResponseHeaders
{
    /// <summary>Documents that answers with <paramref name="statusCode"/> carry the header <paramref name="name"/>.</summary>
    public static TBuilder ProducesHeader<TBuilder>(this TBuilder endpoint, int statusCode, string name, string description, bool always = true)
        where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new ResponseHeaderMetadata(statusCode, name, description, always));
}

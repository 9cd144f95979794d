namespace AppHost;

/// <summary>
/// What a deployment made from the manifest needs beyond what running locally does: the identity provider
/// to trust, asked for as parameters (azd and aspirate prompt for them), and a name for its telemetry.
/// </summary>
public static class Deployment
{
    public const string IdentityAuthority = "identity-authority";
    public const string IdentityAudience = "identity-audience";

    public static IResourceBuilder<ProjectResource> WithDeploymentSettings(this IResourceBuilder<ProjectResource> service)
    {
        var builder = service.ApplicationBuilder;
        if (!builder.ExecutionContext.IsPublishMode)
        {
            return service;
        }

        var authority = builder.AddParameter(IdentityAuthority)
            .WithDescription("The OpenID Connect authority that issues tokens for the API, such as https://login.example.com/tenant.");
        var audience = builder.AddParameter(IdentityAudience)
            .WithDescription("The audience the API's tokens are issued for, such as api://userservice.");

        // Project resources are published with an https endpoint next to http; the service listens on
        // plain HTTP behind the ingress, which terminates TLS, so an https binding would lead nowhere.
        foreach (var https in service.Resource.Annotations.OfType<EndpointAnnotation>().Where(endpoint => endpoint.UriScheme == "https").ToList())
        {
            service.Resource.Annotations.Remove(https);
        }

        return service
            .WithEnvironment("Authentication__Schemes__Bearer__Authority", authority)
            .WithEnvironment("Authentication__Schemes__Bearer__ValidAudiences__0", audience)
            // Locally the orchestrator names each replica's telemetry; a deployment must say it itself.
            .WithEnvironment("OTEL_SERVICE_NAME", service.Resource.Name);
    }
}

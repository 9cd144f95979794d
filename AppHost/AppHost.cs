using Microsoft.Extensions.Configuration;
using AppHost;
using AppHost.Cache;

var builder = DistributedApplication.CreateBuilder(args);

var cache = builder.AddCache(ResourceNames.Cache);

var userService = builder.AddProject<Projects.UserService>(ResourceNames.UserService)
    // The connection string is all the service reads: the password travels nowhere else.
    .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString)
    .WithReference(cache)
    .WaitFor(cache)
    .WithExternalHttpEndpoints()
    // Health, liveness and metrics get a port of their own, added after the public endpoints were made
    // external so that it stays internal to the cluster.
    .WithHttpEndpoint(
        targetPort: builder.ExecutionContext.IsPublishMode ? UserServiceContract.DeployedManagementPort : null,
        name: ResourceNames.ManagementEndpoint)
    .WithHttpHealthCheck(UserServiceContract.HealthPath, endpointName: ResourceNames.ManagementEndpoint)
    .WithUrlForEndpoint("http", url =>
    {
        url.Url = UserServiceContract.UsersPath;
        url.DisplayText = "Users API";
    })
    .WithUrlForEndpoint("http", endpoint => new ResourceUrlAnnotation { Url = "/scalar", DisplayText = "API reference" })
    .WithUrlForEndpoint(ResourceNames.ManagementEndpoint, url =>
    {
        url.Url = UserServiceContract.HealthPath;
        url.DisplayText = "Health (management port)";
        url.DisplayLocation = UrlDisplayLocation.DetailsOnly;
    })
    .WithDevelopmentSigningKey()
    .WithDevelopmentTokenCommand(UserServiceContract.Scopes)
    .WithDeploymentSettings()
    .WithReplicas(builder.Configuration.GetValue("UserService:Replicas", 1));

// Where the store has replicas, a write is acknowledged once one of them has it.
if (cache.Resource is RedisClusterResource)
{
    userService.WithEnvironment("Store__Replication__Acks", "1");
}

// The service serves plain HTTP under the AppHost. Left to its default, Aspire counts every project as a
// resource that uses a development certificate, and on a machine without a trusted one the dashboard opens
// with a "No trusted development certificate" error for a certificate nothing here uses.
#pragma warning disable ASPIRECERTIFICATES001 // Experimental in Aspire 13.6.
userService.WithoutHttpsCertificate();
#pragma warning restore ASPIRECERTIFICATES001

// Aspire would have a deployed service believe X-Forwarded-* from anyone; the service trusts only the
// proxies configured under ForwardedHeaders instead.
userService.WithEnvironment(context => context.EnvironmentVariables.Remove("ASPNETCORE_FORWARDEDHEADERS_ENABLED"));

// The service listens on every endpoint; this tells it which one is the management port.
userService.WithEnvironment(
    "Management__Port",
    userService.GetEndpoint(ResourceNames.ManagementEndpoint).Property(EndpointProperty.TargetPort));

builder.Build().Run();

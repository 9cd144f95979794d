namespace AppHost.Cache;

/// <summary>
/// A Redis-compatible server that runs as a local process (Garnet or redis-server): loopback only,
/// protected by the same password parameter the container uses, with its data in <see cref="DataDirectory"/>.
/// </summary>
public sealed class LocalCacheResource(string name, CacheEngine engine, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory: dataDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpointName = "tcp";

    public CacheEngine Engine { get; } = engine;

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => field ??= new(this, PrimaryEndpointName);

    // The same shape as Aspire's Redis resource, so that clients cannot tell the engines apart.
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={PasswordParameter}");
}

namespace AppHost;

/// <summary>The names resources are known by: in the dashboard, in connection strings and in tests.</summary>
public static class ResourceNames
{
    public const string Cache = "cache";
    public const string CachePassword = "cache-password";
    public const string UserService = "userservice";

    /// <summary>The user service's endpoint for health, liveness and metrics.</summary>
    public const string ManagementEndpoint = "management";
}

/// <summary>
/// What the AppHost relies on in the user service. The service defines each of these for itself; a test
/// checks that the two agree.
/// </summary>
public static class UserServiceContract
{
    /// <summary>The management port of a deployed service, as its container image exposes it.</summary>
    public const int DeployedManagementPort = 8081;

    /// <summary>Readiness, on the management port.</summary>
    public const string HealthPath = "/health";

    /// <summary>The list of users, where the dashboard links.</summary>
    public const string UsersPath = "/api/users";

    /// <summary>The scopes the API checks: the dashboard's token command grants all of them.</summary>
    public static readonly string[] Scopes = ["users:read", "users:write"];
}

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

using System.Text.Json;
using System.Text.Json.Serialization;
using AppHost;
using StackExchange.Redis;
using UserService.Users.Store;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
// The Redis client as the service configures it, so that the two differ only in what the service adds.
var redisOptions = ConfigurationOptions.Parse(builder.Configuration.GetConnectionString(ResourceNames.Cache) ?? "localhost:6379");
redisOptions.SocketManager = SocketManager.ThreadPool;
builder.Services.AddSingleton<IConnectionMultiplexer>(ConnectionMultiplexer.Connect(redisOptions));
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, BaselineJson.Default));

var app = builder.Build();

app.MapGet("/api/users/{id:long}", async (long id, IConnectionMultiplexer redis) =>
{
    var document = await redis.GetDatabase().HashGetAsync(StoreLayout.DataOf(id), id);
    return document.IsNull ? Results.NotFound() : Results.Ok(Stored.Read(document).ToResponse(id));
});

app.MapGet("/api/users", async (IConnectionMultiplexer redis, long after = 0, int limit = 50) =>
{
    var (found, _) = await StoreLayout.PageAsync(redis.GetDatabase(), after, limit);
    return Results.Ok(found.Where(user => !user.Document.IsNull).Select(user => Stored.Read(user.Document).ToResponse(user.Id)).ToArray());
});

app.Run();

internal sealed record Stored(string Username, string Email, string? DisplayName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, long Version)
{
    public static Stored Read(RedisValue json) => JsonSerializer.Deserialize((byte[])json!, BaselineJson.Default.Stored)!;

    public UserResponse ToResponse(long id) => new(id, Username, Email, DisplayName, CreatedAt, UpdatedAt);
}

internal sealed record UserResponse(long Id, string Username, string Email, string? DisplayName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Stored))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(UserResponse[]))]
internal sealed partial class BaselineJson : JsonSerializerContext;

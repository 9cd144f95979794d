using System.Text.Json;
using System.Text.Json.Serialization;
using UserService.Users.Store;

namespace UserService.Users;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StoredUser))]
[JsonSerializable(typeof(UserRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(UserResponse[]))]
internal sealed partial class UsersJsonContext : JsonSerializerContext;
